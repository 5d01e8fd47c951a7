@raftkv @etcd @netns
Feature: Reads through a member cut off by a partition
  Writers go through the leader from the start. Then a follower is isolated, and only
  then do readers start reading through it, so every read they make is made while that
  member is cut off from the majority (a serializable read through a merely lagging
  follower can be stale too, as read_modes.feature shows: here the partition alone is the
  cause). Cut off, the member cannot serve a linearizable read, which needs the leader
  (those reads time out and fail, which proves nothing either way), but it answers a
  serializable read from its own state, frozen at the cut while the leader's side keeps
  acknowledging writes: a real stale read by a weaker read mode, which the checker must
  find. Readers only read, so none waits out a write the cut-off member cannot commit.

  Background:
    Given a 3-node etcd cluster is running in network namespaces
    And 3 clients read, write and compare-and-set 1 key through the leader
    When the clients complete 100 operations
    And a follower is isolated

  Scenario: Linearizable reads through an isolated follower are never stale
    Given 6 clients read 1 key through that follower
    When the clients complete 100 more operations
    And the network heals
    And the clients complete 100 more operations
    Then the history of at least 300 operations, 100 of them completed during faults, is linearizable

  Scenario: Serializable reads through an isolated follower miss the majority's writes
    Given 6 clients read 1 key through that follower with serializable reads
    When the clients complete 100 more operations
    And the network heals
    Then the history is not linearizable
