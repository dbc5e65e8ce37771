/**
 * Reply FIFOs a CNI agent makes ahead (`fifo.0` ... in its directory), which launchers claim
 * instead of running `mkfifo` (see `startCniAgent` and `cniLauncherScript`).
 */
export const CNI_AGENT_REPLY_SLOTS = 8;
