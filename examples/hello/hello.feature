Feature: A user's own steps
  Scenario: The service adds up
    Given a service starting at 40
    When I add 2
    Then the service shows 42 within 5 seconds

  Scenario: A wrong expectation explains itself
    Given a service starting at 1
    Then the service shows 2 within 0.05 seconds
