"""Mail: the outbox (mails queued in the transaction of the change that causes them, sent over SMTP by the mail
worker) and the notices (what happened to an account, listed in the studio and mailed). Below accounts, above jobs:
this package never imports marketplace.accounts (accounts calls it)."""
