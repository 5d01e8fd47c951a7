@raftkv @etcd
Feature: Leader failover in a Raft key-value store
  A 3-node etcd cluster runs on this machine. The observer watches every member's
  status; the steps below act on the cluster and wait on what is observed. Meanwhile
  five clients read, write and compare-and-set three keys through random members, and
  what they saw must be linearizable (Jepsen's check), faults and all.

  # Bound: a new leader comes one election timeout (250-500 ms here) after the fault; 45
  # elections over 15 soak runs (ASan build, machine at load 4-6) took p50 0.6 s, max 1.2 s.
  # 10 s leaves 8x the slowest for a loaded 2-core machine.

  Background:
    Given a 3-node etcd cluster is running
    And 5 clients read, write and compare-and-set 3 keys through random members

  Scenario: Killing the leader elects a new leader with a higher term
    When the clients complete 50 operations
    And I put "before" = "1"
    And the leader is killed
    Then a leader is elected within 10 seconds
    And all running nodes agree on the leader
    When I put "after" = "2"
    And the clients complete 100 more operations
    Then key "before" reads "1" on every running node
    And key "after" reads "2" on every running node
    And Election Safety holds
    And the history of at least 150 operations, 50 of them completed during faults, is linearizable

  Scenario: A paused leader is replaced, then steps down and catches up
    When the clients complete 50 operations
    And the leader is paused
    Then a leader is elected within 10 seconds
    When I put "while-paused" = "yes"
    And the clients complete 20 more operations
    And the old leader is resumed
    Then the old leader steps down and catches up
    And all running nodes agree on the leader
    And key "while-paused" reads "yes" on every running node
    And Election Safety holds
    When the clients complete 30 more operations
    Then the history of at least 100 operations, 20 of them completed during faults, is linearizable
