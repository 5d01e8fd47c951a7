@raftkv @etcd @netns
Feature: Serializable reads from a partitioned member are stale
  Kept out of scenarios/ until the network-faults steps are in main: it needs "a 3-node
  etcd cluster is running in network namespaces", "node n3 is isolated" and "the network
  heals" (issue 17), and those steps must record their faults as fault windows of the
  client history (tf_world_fault_begin/end) for "completed during faults" to count.

  Writers go through n1, readers through n3. Cut off from the majority, n3 cannot serve
  a linearizable read (it needs the leader: those reads time out and are failures, which
  prove nothing either way), but it answers a serializable read from its own stale state
  while the majority keeps acknowledging writes: a real stale read, which the checker
  must find.

  Background:
    Given a 3-node etcd cluster is running in network namespaces

  Scenario: Linearizable reads through an isolated member are never stale
    Given 3 clients read, write and compare-and-set 1 key through member n1
    And 3 clients read, write and compare-and-set 1 key through member n3
    When the clients complete 50 operations
    And node n3 is isolated
    And the clients complete 100 more operations
    And the network heals
    And the clients complete 50 more operations
    Then the history of at least 200 operations, 100 of them completed during faults, is linearizable

  Scenario: Serializable reads through an isolated member miss the majority's writes
    Given 3 clients read, write and compare-and-set 1 key through member n1
    And 3 clients read, write and compare-and-set 1 key through member n3 with serializable reads
    When the clients complete 50 operations
    And node n3 is isolated
    And the clients complete 100 more operations
    And the network heals
    Then the history is not linearizable
