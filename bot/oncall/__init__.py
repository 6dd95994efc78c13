"""On-call notification: a risk alert reaches a person outside the console within a minute.

- `addresses`: the settings parsed (numbers, addresses, the SMTP URL);
- `plan`: who is told, and the content-free texts;
- `risk`: inside the transaction that writes a risk alert, a notice per on-call number and
  address and a job that escalates to the supervisors if nobody marks it seen in 15 minutes;
- `notices`: the table the notices wait in (claimed, retried, settled after a crash);
- `mailer`: email through aiosmtplib; SMS goes through the SMS channel's Twilio client;
- `notifier`: the loop that sends them; `serve`: its start-up in `rjbot serve`.
"""
