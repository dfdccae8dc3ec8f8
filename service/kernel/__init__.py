"""The kernel: what every domain stands on and nothing in it knows a domain.

authz (who may do what), subjects (what moves through a workflow), workflow_registry (the
definitions, their guards and actions), transition (the one path every transition takes), uow (the
transaction of a user action), errors, common and text.
"""
