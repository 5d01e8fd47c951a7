@wallet @litecoin @netns
Feature: Three wallets stay equal to their nodes' wallets through several reorgs
  Each node holds one wallet. Payments cross partitions that fork the chain; each healing
  reorganises one side. After every step the projection's outputs of each wallet, at its
  node's head, equal that node's listunspent exactly (txid, vout, litoshis).

  Scenario: Payments across two forks and two reorgs
    Given a 3-node litecoin regtest cluster is running in network namespaces
    And wallet alice on node n1
    And wallet bob on node n2
    And wallet carol on node n3
    When wallet alice mines 101 blocks
    And wallet alice pays 10 coins to wallet bob
    And wallet alice pays 10 coins to wallet carol
    And wallet alice mines 1 block
    Then every wallet matches its node's listunspent
    When node n3 is isolated
    And wallet carol pays 1.25 coins to wallet alice
    And wallet carol mines 1 block
    Then every wallet matches its node's listunspent
    When wallet bob pays 2 coins to wallet carol
    And wallet bob mines 2 blocks
    Then the payment is included with 2 confirmations
    And every wallet matches its node's listunspent
    When the network heals
    Then every wallet matches its node's listunspent
    When node n1 is isolated
    And wallet alice pays 3 coins to wallet bob
    And wallet alice mines 3 blocks
    And wallet carol pays 0.5 coins to wallet bob
    And wallet carol mines 1 block
    Then every wallet matches its node's listunspent
    When the network heals
    Then every wallet matches its node's listunspent
    When wallet bob mines 1 block
    Then wallet bob has a balance of at least 11 coins
    And every wallet matches its node's listunspent
