@raftkv @etcd
Feature: Leader failover in a Raft key-value store
  A 3-node etcd cluster runs on this machine. The observer watches every member's
  status; the steps below act on the cluster and wait on what is observed.

  Background:
    Given a 3-node etcd cluster is running

  Scenario: Killing the leader elects a new leader with a higher term
    When I put "before" = "1"
    And the leader is killed
    Then a leader is elected within 10 seconds
    And all running nodes agree on the leader
    When I put "after" = "2"
    Then key "before" reads "1" on every running node
    And key "after" reads "2" on every running node
    And Election Safety holds

  Scenario: A paused leader is replaced, then steps down and catches up
    When the leader is paused
    Then a leader is elected within 10 seconds
    When I put "while-paused" = "yes"
    And the old leader is resumed
    Then the old leader steps down and catches up
    And all running nodes agree on the leader
    And key "while-paused" reads "yes" on every running node
    And Election Safety holds
