Feature: A step that needs network namespaces, in a scenario not tagged @netns
  test_netns_scenarios runs this as a user who cannot make namespaces: the Given step
  must fail at once, saying what is missing (no cluster starts, nothing waits).

  Scenario: The cluster cannot be isolated here
    Given a 3-node etcd cluster is running in network namespaces
    When node n1 is isolated
