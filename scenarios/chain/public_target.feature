@chain @litecoin
Feature: Local nodes sync to what the public peers agree on
  Nodes tagged role=public (scenarios/clusters/litecoin-public-3.json) stand for the wider
  network; the sync target is the highest block a strict majority of them hold. The
  local nodes reach it only once they are linked to the public peers. (Nodes still at
  genesis are in initial block download and sync headers from one peer at a time; the
  next block the network announces makes them fetch the public chain.)

  Scenario: Local nodes reach the public majority target after connecting
    Given a 2-node litecoin regtest cluster is running
    And a 3-node public litecoin regtest network is running
    When node p1 mines 4 blocks
    Then the public majority target reaches height 4
    And local nodes are not at the public majority target
    When node n1 connects to the public network
    And node p2 mines 1 block
    Then the public majority target reaches height 5
    And local nodes reach the public majority target
