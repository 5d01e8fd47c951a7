@chain @litecoin
Feature: Nodes of a chain converge on one tip
  Three litecoind regtest nodes run on this machine. The chain observer follows every
  node's best block; the steps mine through RPC and wait on what is observed.

  Scenario: Blocks mined on one node reach every node
    Given a 3-node litecoin regtest cluster is running
    When node n1 mines 5 blocks
    Then all nodes converge on one tip within 30 seconds
    When node n2 mines 1 block
    Then all nodes converge on one tip within 30 seconds
