@chain @litecoin @netns
Feature: A partition forks the chain and healing it reorganises the minority
  Each node runs in a network namespace of its own. One is cut off from its peers (every
  packet between them dropped; the observer still reaches all three) and mines its own
  branch while the others mine a longer one. When the network heals it must abandon its
  branch: the observer reports the reorg with its exact depth, checked against the node's
  own view.

  # Bounds: a mined block reached every node within a second here, a healed partition
  # converged within 0.2 s and a restarted node caught up within 0.9 s at load 9-10
  # (bench_netfaults); 30 s (60 s after a reorg of a longer fork) leaves 30x or more.
  Scenario: The partitioned node reorganises onto the longer branch
    Given a 3-node litecoin regtest cluster is running in network namespaces
    When node n1 mines 3 blocks
    Then all nodes converge on one tip within 30 seconds
    When node n3 is isolated
    And node n3 mines 2 blocks
    And node n1 mines 3 blocks
    Then a fork is observed
    When the network heals
    Then all nodes converge on one tip within 60 seconds
    And a reorg of depth 2 is observed on node n3
