@chain @litecoin
Feature: A transaction is included and confirmed
  The observer fetches each new block's txids; a payment counts as included with k
  confirmations once a canonical block holds it and k-1 blocks are built on top.

  # Bounds: a mined block reached every node within a second here, a healed partition
  # converged within 0.2 s and a restarted node caught up within 0.9 s at load 9-10
  # (bench_netfaults); 30 s (60 s after a reorg of a longer fork) leaves 30x or more.
  Scenario: A payment gets 3 confirmations
    Given a 2-node litecoin regtest cluster is running
    When node n1 mines 101 blocks
    And node n1 sends 1.5 coins to node n2
    And node n1 mines 3 blocks
    Then the transaction is included with 3 confirmations
    And all nodes converge on one tip within 30 seconds
