"""The spec's literal example answers (chapter 5, 6.1), as the PDF prints them.

Elision lines (``: : :``, ``.. .. ..``), trailing spaces and the line break
inside a quoted date are kept on purpose: the parsers must cope with them.
"""

from __future__ import annotations

# Spec 5.3.1 [Response example].
GETINFO = (
    b"<HTML>\r\n"
    b"CAM_CONNECT_01CH=1\r\n"
    b"CAM_CONNECT_02CH=1\r\n"
    b"CAM_CONNECT_03CH=2\r\n"
    b"CAM_CONNECT_04CH=2\r\n"
    b"CAM_CONNECT_05CH=0\r\n"
    b": : :\r\n"
    b"CAM_CONNECT_99CH=0\r\n"
    b"CAM_CONNECT_100CH=0\r\n"
    b": : :\r\n"
    b"CAM_CONNECT_128CH=0\r\n"
    b"MAXUID=16\r\n"
    b"USEDUID=1\r\n"
    b"</HTML>\r\n"
)

# Spec 5.2.1 [Response example].
RECORDEDTIME = (
    b"Recording information\r\n"
    b"\r\n"
    b"Disk,Capacity,Remain capacity,Recorded time range\r\n"
    b"MAIN-1,4001GB(R),1529GB,2021/11/14,0,13:00:00,2021/12/24,0,15:30:12\r\n"
    b"MAIN-2,4001GB,3710GB,,,,,, \r\n"
    b"MAIN-3,4001GB,3710GB,,,,,, \r\n"
    b"MAIN-4,4001GB,3710GB,,,,,, \r\n"
    b"MAIN-5,,,,,,,, \r\n"
    b".. .. .. \r\n"
    b"MAIN-9,,,,,,,, \r\n"
    b"EXT1-1,,,,,,,, \r\n"
    b"EXT1-2,,,,,,,, \r\n"
    b".. .. .. \r\n"
    b"EXT5-8,,,,,,,, \r\n"
    b"EXT5-9,,,,,,,, \r\n"
)

# Spec 5.1.1 [Response example]: oldest first, the list wraps between fields.
ERROR_LOG = (
    b"FILENAME=as_errorlog.html\r\n"
    b"ERROR_LOG_NO=2\r\n"
    b'ERROR_LOG="001","2021/11/14 14:10:00","0","CAM 3 COMMUNICATION ERROR","GMT+03:00","002" \r\n'
    b',"2021/11/14 14:48:00","0","CAM 3 COMMUNICATION RECOVERED","GMT+03:00"\r\n'
    b"\r\n"
)

# Spec 5.1.2 [Response example]: newest first, the list wraps inside a quoted date.
EVENT_LOG = (
    b"FILENAME=as_eventlog.html\r\n"
    b"EVENT_LOG_NO=2\r\n"
    b'EVENT_LOG="001","2024/04/24 12:30:00","0","SITE(VMD)-2","GMT+09:00","002","2024/04/24 \r\n'
    b'11:45:00","0","SITE(VMD)-1","GMT+09:00" \r\n'
    b"\r\n"
)

# Spec 6.1.1: "UID=13313" in an HTML answer.
LOGIN = b"<HTML>\r\nUID=13313\r\n</HTML>\r\n"
