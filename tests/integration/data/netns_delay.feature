@netns
Feature: Delaying a member's packets needs netem
  test_netns_scenarios runs this: where the kernel has no netem queueing discipline the
  delay step fails at once, saying so; where it has one, the delay is applied and healed.

  Scenario: A delay on one member
    Given a 3-node etcd cluster is running in network namespaces
    When node n1's packets are delayed by 100 ms
    And the network heals
    Then all running nodes agree on the leader
