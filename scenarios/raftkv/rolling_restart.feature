@raftkv @etcd
Feature: Rolling restart under load
  Every member is restarted in turn while a client keeps writing. Every write the
  cluster acknowledged must still be readable on every member afterwards.

  Scenario: No acknowledged write is lost in a rolling restart
    Given a 3-node etcd cluster is running
    When writes run continuously in the background
    And every node is restarted one at a time
    And the background writes stop
    Then every acknowledged write is readable
    And all running nodes agree on the leader
    And Election Safety holds
