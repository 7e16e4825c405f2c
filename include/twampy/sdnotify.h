/* sdnotify: systemd's readiness protocol (sd_notify(3)) without libsystemd.
 * A service of Type=notify tells systemd "READY=1" once it serves and
 * "STOPPING=1" when it begins to stop, in one datagram to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). */
#ifndef TWAMPY_SDNOTIFY_H
#define TWAMPY_SDNOTIFY_H

/* Send state ("READY=1", "STOPPING=1", ...) to $NOTIFY_SOCKET. Returns 1 when
 * sent, 0 when NOTIFY_SOCKET is unset or empty (not run by systemd), or a
 * negative errno: -EINVAL for a name that is neither "/..." nor "@..." or too
 * long for sun_path, else the socket's or sendto's error. Never blocks. */
int tw_sd_notify(const char *state);

#endif
