@raftkv @etcd
Feature: Linearizable and serializable reads
  etcd answers a serializable read from the member's own state without asking the leader:
  cheaper, and allowed to be stale. Three clients write and compare-and-set one key through
  the leader while six readers read it through a follower, which applies what the leader
  commits a little later and is paused now and then. With linearizable reads the history
  is linearizable; with serializable reads the checker must find the stale reads.

  Background:
    Given a 3-node etcd cluster is running
    And 3 clients read, write and compare-and-set 1 key through the leader

  Scenario: Linearizable reads through a lagging follower are never stale
    Given 6 clients read 1 key through a follower
    When the clients complete 100 operations
    And that follower is paused
    And the clients complete 30 more operations
    And that follower is resumed
    And the clients complete 100 more operations
    And that follower is paused
    And the clients complete 30 more operations
    And that follower is resumed
    And the clients complete 100 more operations
    Then the history of at least 360 operations, 60 of them completed during faults, is linearizable

  Scenario: Serializable reads through a lagging follower are stale
    Given 6 clients read 1 key through a follower with serializable reads
    When the clients complete 100 operations
    And that follower is paused
    And the clients complete 30 more operations
    And that follower is resumed
    And the clients complete 100 more operations
    And that follower is paused
    And the clients complete 30 more operations
    And that follower is resumed
    And the clients complete 100 more operations
    Then the history is not linearizable
