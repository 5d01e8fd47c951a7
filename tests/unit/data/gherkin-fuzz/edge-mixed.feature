@a
@b @
# language: fr
@@
Feature:

  Rule:
  @t
  Rule:
  Background:
  Scenario Outline: <a>
  Examples:
  | a |
  Examples:
  | a | b |
  | 1 |
