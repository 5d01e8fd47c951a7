@raftkv @etcd
Feature: Quorum in a Raft key-value store
  Writes need a majority. A minority can be lost without losing writes; losing a
  majority stops the cluster until the nodes return.

  Background:
    Given a 3-node etcd cluster is running

  Scenario: Losing a minority keeps writes working
    When a minority of nodes is stopped
    Then all running nodes agree on the leader
    When I put "minority" = "ok"
    Then key "minority" reads "ok" on every running node
    And Election Safety holds

  Scenario: Losing a majority stops writes until the nodes return
    When I put "kept" = "1"
    And a majority of nodes is stopped
    Then no leader exists while quorum is lost
    And writing "lost" = "x" fails
    When the stopped nodes are restarted
    Then a leader is elected within 20 seconds
    And all running nodes agree on the leader
    When I put "recovered" = "1"
    Then every acknowledged write is readable
    And Election Safety holds
