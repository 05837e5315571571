"""The AWS Lambda side: `handlers` -> `logic` -> `dal` -> `models` (each arrow may skip).

May import `edge`; never `infra` (which imports this to run it locally and deploy it).
"""
