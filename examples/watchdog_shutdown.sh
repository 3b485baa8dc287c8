#!/bin/sh
# The watchdog's SHUTDOWN_SCRIPT: run once the mount and the dome are parked (EXECUTE_SCRIPT
# on in WATCHDOG_SHUTDOWN), with the cause in its environment. Exit 0 when done: any other
# status is retried, then WATCHDOG_STEPS.EXECUTE_SCRIPT turns Alert.
#
#   INDIPY_WATCHDOG_SOURCE  weather or client (the heartbeat)
#   INDIPY_WATCHDOG_DEVICE  the device the cause is about ("Weather Simulator")
#   INDIPY_WATCHDOG_CAUSE   the cause in words, as WATCHDOG_CAUSE shows it
log="${WATCHDOG_LOG:-$HOME/watchdog.log}"
printf '%s %s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$INDIPY_WATCHDOG_SOURCE" \
    "$INDIPY_WATCHDOG_DEVICE" "$INDIPY_WATCHDOG_CAUSE" >> "$log"
# Then whatever the site needs: dew heaters off, a message to the phone...
# curl -fsS -d "Observatory closed: $INDIPY_WATCHDOG_CAUSE" https://ntfy.sh/my-observatory
exit 0
