@chain @litecoin
Feature: Nodes of a chain converge on one tip
  Three litecoind regtest nodes run on this machine. The chain observer follows every
  node's best block; the steps mine through RPC and wait on what is observed.

  # Bounds: a mined block reached every node within a second here, a healed partition
  # converged within 0.2 s and a restarted node caught up within 0.9 s at load 9-10
  # (bench_netfaults); 30 s (60 s after a reorg of a longer fork) leaves 30x or more.
  Scenario: Blocks mined on one node reach every node
    Given a 3-node litecoin regtest cluster is running
    When node n1 mines 5 blocks
    Then all nodes converge on one tip within 30 seconds
    When node n2 mines 1 block
    Then all nodes converge on one tip within 30 seconds
