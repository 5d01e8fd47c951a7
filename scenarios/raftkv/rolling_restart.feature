@raftkv @etcd
Feature: Rolling restart under load
  Every member is restarted in turn while a client keeps writing and five clients read,
  write and compare-and-set three keys through random members. Every write the cluster
  acknowledged must still be readable on every member afterwards, and what the clients
  saw must be linearizable.

  Scenario: No acknowledged write is lost in a rolling restart
    Given a 3-node etcd cluster is running
    And 5 clients read, write and compare-and-set 3 keys through random members
    When writes run continuously in the background
    And the clients complete 50 operations
    And every node is restarted one at a time
    And the background writes stop
    Then every acknowledged write is readable
    And all running nodes agree on the leader
    And Election Safety holds
    When the clients complete 50 more operations
    Then the history of at least 100 operations, 20 of them completed during faults, is linearizable
