#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"

void cli_drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw)
        cli_fail("--user %s: no such user", user);
    if (setgroups(0, NULL) < 0 && errno != EPERM)
        cli_fail("--user %s: cannot drop supplementary groups: %s", user, strerror(errno));
    if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
        cli_fail("--user %s: cannot switch to uid %u gid %u: %s", user, (unsigned)pw->pw_uid,
                 (unsigned)pw->pw_gid, strerror(errno));
    if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0))
        cli_fail("--user %s: root privileges could not be dropped", user);
    tw_notice("Running as user %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid,
              (unsigned)pw->pw_gid);
}
