"""Email: Angie reads a mailbox over IMAP and answers over SMTP."""
