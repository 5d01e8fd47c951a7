@raftkv @etcd
Feature: Linearizable and serializable reads
  etcd answers a serializable read from the member's own state without asking the leader:
  cheaper, and allowed to be stale. Three clients write and compare-and-set one key through
  n1 while six readers read it through n3, a member that lags behind the commits it is told
  of and is paused now and then. With linearizable reads the history is linearizable; with
  serializable reads the checker must find the stale reads.

  Background:
    Given a 3-node etcd cluster is running
    And 3 clients read, write and compare-and-set 1 key through member n1

  Scenario: Linearizable reads through a lagging member are never stale
    Given 6 clients read 1 key through member n3
    When the clients complete 100 operations
    And node n3 is paused
    And the clients complete 30 more operations
    And node n3 is resumed
    And the clients complete 100 more operations
    And node n3 is paused
    And the clients complete 30 more operations
    And node n3 is resumed
    And the clients complete 100 more operations
    Then the history of at least 360 operations, 60 of them completed during faults, is linearizable

  Scenario: Serializable reads through a lagging member are stale
    Given 6 clients read 1 key through member n3 with serializable reads
    When the clients complete 100 operations
    And node n3 is paused
    And the clients complete 30 more operations
    And node n3 is resumed
    And the clients complete 100 more operations
    And node n3 is paused
    And the clients complete 30 more operations
    And node n3 is resumed
    And the clients complete 100 more operations
    Then the history is not linearizable
