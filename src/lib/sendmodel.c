#include "sendmodel.h"

void tw_smooth(int64_t *est, int64_t sample)
{
    if (*est > 0 && sample > 2 * *est)
        sample = 2 * *est;
    *est += (sample - *est) / 8;
}

static bool fresh(const tw_send_model_t *sm, int c, int64_t now)
{
    return sm->at[c] && now - sm->at[c] <= TW_SEND_MODEL_AGE_NS;
}

void tw_send_model_add(tw_send_model_t *sm, int m, int64_t dur, int64_t now)
{
    if (dur < 0 || m < 1)
        return;
    int c = m > TW_SEND_SMALL_CHUNK;
    if (!fresh(sm, c, now)) {
        sm->dur[c] = dur;
        sm->size[c] = 16 * (int64_t)m;
    } else {
        tw_smooth(&sm->dur[c], dur);
        sm->size[c] += (16 * (int64_t)m - sm->size[c]) / 8;
    }
    sm->at[c] = now;
}

void tw_send_model_get(const tw_send_model_t *sm, int64_t now, int64_t *fixed, int64_t *per)
{
    *fixed = *per = 0;
    if (!fresh(sm, 0, now) || !fresh(sm, 1, now) || sm->size[1] - sm->size[0] < 2 * 16)
        return;
    /* The line through (size[0], dur[0]) and (size[1], dur[1]). */
    *per = (sm->dur[1] - sm->dur[0]) * 16 / (sm->size[1] - sm->size[0]);
    if (*per < 0)
        *per = 0;
    *fixed = sm->dur[0] - *per * sm->size[0] / 16;
    if (*fixed < 0)
        *fixed = 0;
}
