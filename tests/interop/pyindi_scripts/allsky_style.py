"""An all-sky camera program in indi-allsky's style: find the camera by its interface bits,
poll for controls with a timeout, set numbers and switches by element name, wait on the
control's state, ask for BLOBs device-wide and save each exposure from the BLOB callback.

``allsky_style.py HOST PORT`` takes the path the module offers (2.x: updateProperty, unless
``PyIndi.BaseMediator`` has ``newNumber``, as in 1.9); ``allsky_style.py HOST PORT 1x`` is the
old program that defines only ``newBLOB``/``newNumber``/``newSwitch``.
"""

import queue
import sys
import time

from scriptkit import server

import PyIndi

LEGACY = len(sys.argv) > 3 and sys.argv[3] == "1x"
TWO_PATHS = hasattr(PyIndi.BaseMediator, "newNumber")  # 1.9 builds carry the old callbacks


class Timeout(Exception):
    pass


class AllSkyBase(PyIndi.BaseClient):
    def __init__(self):
        super().__init__()
        self.images = queue.Queue()
        self.exposure_started = None

    def _image(self, blob):
        data = blob.getblobdata()
        self.images.put((blob.getName(), blob.getFormat(), len(data), bytes(data[:6])))

    def get_control(self, device, name, kind, timeout=30.0):
        getter = {"number": "getNumber", "switch": "getSwitch", "text": "getText",
                  "light": "getLight", "blob": "getBLOB"}[kind]
        started = time.time()
        control = None
        while not control:
            control = getattr(device, getter)(name)
            if not control and time.time() - started > timeout:
                raise Timeout(f"no control {name}")
            time.sleep(0.1)
        return control

    def indexes(self, control, names):
        return {c.getName(): i for i, c in enumerate(control) if c.getName() in names}

    def wait_ready(self, control, timeout=30.0):
        started = time.time()
        while control.getState() not in (PyIndi.IPS_OK, PyIndi.IPS_IDLE):
            if time.time() - started > timeout:
                raise Timeout(f"{control.getName()} stays {control.getStateAsString()}")
            time.sleep(0.15)

    def set_number(self, device, name, values, sync=True):
        control = self.get_control(device, name, "number")
        for element, index in self.indexes(control, values).items():
            control[index].setValue(values[element])
        self.sendNewNumber(control)
        if sync:
            self.wait_ready(control)
        return control

    def set_switch(self, device, name, on):
        control = self.get_control(device, name, "switch")
        exclusive = control.getRule() in (PyIndi.ISR_1OFMANY, PyIndi.ISR_ATMOST1)
        for index in range(len(control)):
            element = control[index]
            if element.getName() in on:
                element.setState(PyIndi.ISS_ON)
            elif exclusive:
                element.setState(PyIndi.ISS_OFF)
        self.sendNewSwitch(control)
        return control


if LEGACY:
    class AllSky(AllSkyBase):
        def newBLOB(self, bp):
            self._image(bp)

        def newNumber(self, nvp):
            pass

        def newSwitch(self, svp):
            pass
else:
    class AllSky(AllSkyBase):
        def newBLOB(self, bp):
            if TWO_PATHS:
                self._image(bp)

        def updateProperty(self, prop):
            if TWO_PATHS or prop.getType() != PyIndi.INDI_BLOB:
                return
            for blob in PyIndi.PropertyBlob(prop):
                self._image(blob)


client = AllSky()
client.setServer(*server())
print("connected", client.connectServer())
started = time.time()
cameras = []
while not cameras and time.time() - started < 30:
    time.sleep(0.2)
    for device in client.getDevices():
        interfaces = device.getDriverInterface()
        if type(interfaces) is int and interfaces & PyIndi.BaseDevice.CCD_INTERFACE:
            cameras.append(device)
camera = cameras[0]
print("camera", camera.getDeviceName(), camera.getDriverExec())
client.set_switch(camera, "CONNECTION", ["CONNECT"])
connection = client.get_control(camera, "CONNECTION", "switch")
while not camera.isConnected():
    time.sleep(0.1)
print("connected camera", connection.findOnSwitchName())
client.setBLOBMode(PyIndi.B_ALSO, camera.getDeviceName(), None)
gain = client.set_number(camera, "CCD_GAIN", {"GAIN": 50})
print("gain", gain[0].getValue(), gain.getStateAsString())
binning = client.set_number(camera, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2})
print("binning", [(b.getName(), b.getValue()) for b in binning])
frame_type = client.set_switch(camera, "CCD_FRAME_TYPE", ["FRAME_DARK"])
client.wait_ready(frame_type)
print("frame type", frame_type.findOnSwitchName())
for shot in (1, 2):
    exposure = client.set_number(camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.2},
                                 sync=False)
    name, fmt, size, magic = client.images.get(timeout=60)
    print("image", shot, name, fmt, size > 0, magic)
client.wait_ready(exposure)
print("exposure", exposure.getStateAsString(), "extra images", client.images.qsize())
client.set_switch(camera, "CONNECTION", ["DISCONNECT"])
client.disconnectServer()
