"""Everything around the core and the functions: `cli` (the `perso` command), `local` (AWS
on one machine), the CDN bundle build (`bundle` and its helpers), `cdk` (the AWS stack).

May import `edge` and `lambdas`; nothing in `edge` or `lambdas` imports this.
"""
