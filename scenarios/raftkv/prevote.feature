@raftkv @etcd @netns
Feature: What pre-vote changes when an isolated member rejoins
  Without pre-vote (etcd 3.4's default) an isolated member campaigns again and again, so
  its term climbs while the majority carries on; when it rejoins, its higher term forces
  the leader to step down and the cluster to elect again. With --pre-vote it first asks
  whether it could win, so its term stays put and its return changes nothing. The observer
  sees the isolated member's term throughout, as it never loses sight of it.

  # Bounds: without pre-vote the isolated member campaigns every 250-500 ms (term +3 took
  # about 1 s here), and the forced election takes one election timeout after the heal
  # (0.6 s here): 10 s each leaves 10x for a loaded machine. With pre-vote the "stays" steps
  # watch every snapshot of the period (2 s, 1.5 s: several election timeouts each).
  Scenario: Without pre-vote the rejoining member's inflated term forces an election
    Given a 3-node etcd cluster is running in network namespaces
    When a follower is isolated
    Then the isolated node's term climbs at least 3 above the leader's within 10 seconds
    When the network heals
    Then a new election is forced within 10 seconds
    And all running nodes agree on the leader
    And Election Safety holds

  # "Stays ... for D seconds" claims that no member misses a 250-500 ms election timeout
  # for want of CPU: @serial, so no worker of --parallel runs beside it.
  @serial
  Scenario: With pre-vote the isolated member's term stays and its return changes nothing
    Given a 3-node etcd cluster with pre-vote is running in network namespaces
    When a follower is isolated
    Then the isolated node's term stays at the leader's for 2 seconds
    When the network heals
    Then all running nodes agree on the leader
    And the leader and its term stay the same for 1.5 seconds
    And Election Safety holds
