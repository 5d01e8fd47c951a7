@wallet @litecoin
Feature: A payment confirms
  The wallet projection follows node wallets (sets of addresses) block by block. A payment
  is unconfirmed first (the payer's spent output is hidden, the payee's new one not yet
  listed, as listunspent does), then included, then buried under more blocks.

  Scenario: Alice pays Bob and the payment gets 2 confirmations
    Given a 3-node litecoin regtest cluster is running
    And wallet alice on node n1
    And wallet bob on node n2
    When wallet alice mines 101 blocks
    Then wallet alice has a balance of at least 50 coins
    And every wallet matches its node's listunspent
    When wallet alice pays 1.5 coins to wallet bob
    Then every wallet matches its node's listunspent
    When wallet alice mines 2 blocks
    Then the payment is included with 2 confirmations
    And wallet bob has a balance of at least 1.5 coins
    And every wallet matches its node's listunspent
