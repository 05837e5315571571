"""Everything around the core and the functions: `cli` (the `perso` command), `local` (AWS
on one machine), `bundle` (the CDN build), `cdk` (the AWS stack).

May import `edge` and `lambdas`; nothing in `edge` or `lambdas` imports this.
"""
