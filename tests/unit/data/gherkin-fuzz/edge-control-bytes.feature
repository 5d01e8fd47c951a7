[2J]0;title Feature: x
 31m
@t
Feature: [31m
  Scenario: 
    Given [0m
