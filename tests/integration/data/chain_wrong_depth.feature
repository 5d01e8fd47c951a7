@chain @litecoin @netns
Feature: A wrong reorg expectation fails with what was observed
  Scenario: Expecting depth 3 where the partitioned branch had 2 blocks
    Given a 2-node litecoin regtest cluster is running in network namespaces
    When node n1 mines 1 block
    Then all nodes converge on one tip within 30 seconds
    When node n2 is isolated
    And node n2 mines 2 blocks
    And node n1 mines 3 blocks
    And the network heals
    Then a reorg of depth 3 is observed on node n2
