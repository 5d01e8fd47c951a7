@raftkv @etcd @isolation
Feature: An isolated leader is replaced
  The leader's container is cut off from the others (compose: network disconnect). The
  majority elects a new leader; the old one stays up but unreachable, and once the network
  heals it steps down and catches up. This file runs with --env compose (test_deploy_real);
  local clusters isolate a member in network namespaces (scenarios/raftkv/partitions.feature).

  Scenario: The isolated leader is replaced, then rejoins as a follower
    Given a 3-node etcd cluster is running
    When I put "before" = "1"
    And the leader is isolated
    Then a leader is elected within 10 seconds
    When I put "while-isolated" = "yes"
    And the network heals
    Then the old leader steps down and catches up
    And all running nodes agree on the leader
    And key "before" reads "1" on every running node
    And key "while-isolated" reads "yes" on every running node
    And Election Safety holds
