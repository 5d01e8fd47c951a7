@wallet @litecoin @netns
Feature: A payment is reverted by a reorg and mined again
  The nodes run in network namespaces of their own, so a partition is real: packets between
  the cut-off node and its peers are dropped. A payment mined only on the partitioned
  node's branch leaves the canonical chain when the
  majority's longer branch arrives: the projection reports tx_dropped_by_reorg without a
  rescan (every branch's state is kept by header). After healing, the payment is back in
  the payer's mempool and the next block includes it again.

  Scenario: The minority branch's payment is dropped, then re-mined
    Given a 3-node litecoin regtest cluster is running in network namespaces
    And wallet alice on node n3
    And wallet bob on node n1
    When wallet alice mines 101 blocks
    Then every wallet matches its node's listunspent
    When node n3 is isolated
    And wallet alice pays 2.5 coins to wallet bob
    And wallet alice mines 1 block
    Then the payment is included with 1 confirmation
    And every wallet matches its node's listunspent
    When wallet bob mines 3 blocks
    Then the payment is reverted by a reorg
    And every wallet matches its node's listunspent
    When the network heals
    Then every wallet matches its node's listunspent
    When wallet alice mines 1 block
    Then the payment is included with 1 confirmation
    And wallet bob has a balance of at least 2.5 coins
    And every wallet matches its node's listunspent
