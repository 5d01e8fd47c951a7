Feature: both
  Scenario Outline: <a>
    Given s <a>
      """<a>
      doc <a>
      """
      | <a> | x |
    When t
      | <a> |
      ```
      <a>
      ```
  Examples:
    | a |
    | 1 |
    | <a> |
