Feature: An expectation that cannot hold
  Used by test_raftkv_scenarios: the run must fail, and the failure must say what was
  awaited, show the last snapshot and the last error.

  Scenario: No election is that fast
    Given a 3-node etcd cluster is running
    When the leader is killed
    Then a leader is elected within 0.001 seconds
