Feature: A small web service, observed by the httpstatus plug-in
  The nodes are started from clusters/web.json; tf polls every node each 50 ms and the
  Then steps wait on what it saw, never on a sleep.

  Scenario: A killed node is seen down, and back once it is started again
    Given a 3-node web cluster is running
    When web node n2 is killed
    Then 2 web nodes answer within 5 seconds
    When web node n2 is started again
    Then 3 web nodes answer within 10 seconds

  Scenario: One node of one
    Given a 1-node web cluster is running
    When web node n1 is killed
    Then 0 web nodes answer within 5 seconds
