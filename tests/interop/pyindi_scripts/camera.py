"""The tutorial's camera: connect the CCD, take two exposures, receive the FITS files."""

from scriptkit import PropertyWatcher
from scriptkit import connect_device
from scriptkit import server
from scriptkit import wait

import PyIndi

CCD = "CCD Simulator"

client = PropertyWatcher(CCD, "CCD1")  # its `changed`: an image came
client.setServer(*server())
print("connected", client.connectServer())
device = connect_device(client, CCD, "the CCD connected")
print("ccd connected", device.isConnected())
exposure = wait(lambda: device.getNumber("CCD_EXPOSURE"), "CCD_EXPOSURE")
ccd1 = wait(lambda: device.getBLOB("CCD1"), "CCD1")
client.setBLOBMode(PyIndi.B_ALSO, CCD, "CCD1")
print("blob mode", client.getBLOBMode(CCD, "CCD1") == PyIndi.B_ALSO)
for shot in (1, 2):
    client.changed.clear()
    exposure[0].setValue(0.1)
    client.sendNewNumber(exposure)
    if not client.changed.wait(30):
        print("TIMEOUT waiting for the BLOB")
        raise SystemExit(1)
    for blob in ccd1:
        data = blob.getblobdata()
        print("shot", shot, blob.getName(), blob.getFormat(), "size", blob.getSize() > 0,
              "bloblen == size", blob.getBlobLen() == blob.getSize() == len(data),
              "FITS", bytes(data[:6]) == b"SIMPLE", "old spelling", blob.bloblen == blob.size)
    # The next exposure is asked for once this one has ended (left Busy), as imaging
    # programs do: not while the camera is still between sending the image and saying Ok.
    wait(lambda: exposure.getState() != PyIndi.IPS_BUSY, "the exposure to end")
print("exposure state", exposure.getStateAsString())
client.disconnectServer()
