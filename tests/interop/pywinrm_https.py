"""pywinrm over HTTPS with NTLM: channel binding sent or not, accepted or refused.

Usage: pywinrm_https.py URL USER PASSWORD SEND_CBT(yes|no) EXPECT(ok|refused)
"""
import sys

import winrm
from winrm.exceptions import InvalidCredentialsError

url, user, password, send_cbt, expect = sys.argv[1:6]
session = winrm.Session(url, auth=(user, password), transport="ntlm",
                        server_cert_validation="ignore", send_cbt=(send_cbt == "yes"))
try:
    r = session.run_cmd("echo", ["over", "https"])
    outcome = "ok" if r.std_out == b"over https\r\n" and r.status_code == 0 else "wrong output"
except InvalidCredentialsError as e:
    outcome = "refused"
print(f"send_cbt={send_cbt}: {outcome}")
sys.exit(0 if outcome == expect else 1)
