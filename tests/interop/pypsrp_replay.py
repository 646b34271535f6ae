"""pypsrp against a replay server loaded with recordings pypsrp did not make (pywinrm's, from a
Windows host named Server2016): runs `ipconfig /all` over Negotiate with encryption and prints the
recorded output.

Usage: pypsrp_replay.py HOST PORT USER PASSWORD
"""
import sys

from pypsrp.client import Client

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
client = Client(host, port=port, username=user, password=password, ssl=False,
                auth="negotiate", encryption="auto")
out, err, rc = client.execute_cmd("ipconfig /all")
print(out)
assert "Windows IP Configuration" in out and "Server2016" in out and rc == 0, (out, err, rc)
print("pypsrp replay ok")
