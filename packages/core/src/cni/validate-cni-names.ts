import { CNI_ERROR_CODES, CniError } from './cni-error.js';

/** Container ids and network names: an alphanumeric, then alphanumerics, `_`, `.`, `-`. */
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** IFNAMSIZ − 1: the longest interface name the kernel accepts. */
export const MAX_INTERFACE_NAME_LENGTH = 15;

/**
 * Checks a container id as libcni and skel do.
 *
 * @throws CniError code 3 `missing containerID` when empty; code 4 `invalid characters in
 * containerID` (details: the id).
 * @see containernetworking/cni pkg/utils/utils.go `ValidateContainerID`
 * @example
 * ```ts
 * import { validateContainerId } from '@knet/core';
 * validateContainerId('a51debf7e1eb'); // ok
 * ```
 */
export function validateContainerId(containerId: string): void {
  if (containerId === '') throw new CniError(CNI_ERROR_CODES.ErrUnknownContainer, 'missing containerID');
  if (!VALID_NAME.test(containerId)) {
    throw new CniError(CNI_ERROR_CODES.ErrInvalidEnvironmentVariables, 'invalid characters in containerID', containerId);
  }
}

/**
 * Checks a network name as libcni does.
 *
 * @throws CniError code 7 `missing network name:` (upstream's colon) when empty; code 7
 * `invalid characters found in network name` (details: the name).
 * @see containernetworking/cni pkg/utils/utils.go `ValidateNetworkName`
 */
export function validateNetworkName(name: string): void {
  if (name === '') throw new CniError(CNI_ERROR_CODES.ErrInvalidNetworkConfig, 'missing network name:');
  if (!VALID_NAME.test(name)) throw new CniError(CNI_ERROR_CODES.ErrInvalidNetworkConfig, 'invalid characters found in network name', name);
}

/**
 * Checks an interface name against the kernel's `dev_valid_name()` rules, as libcni does: not
 * empty, at most 15 bytes, not `.` or `..`, no `/`, `:` or whitespace.
 *
 * @throws CniError code 4 with upstream's texts: `interface name is empty`, `interface name is too
 * long` (details `interface name should be less than 16 characters`), `interface name is . or ..`,
 * `interface name contains / or : or whitespace characters`.
 * @see containernetworking/cni pkg/utils/utils.go `ValidateInterfaceName`
 * @see linux net/core/dev.c dev_valid_name
 */
export function validateInterfaceName(ifname: string): void {
  const code = CNI_ERROR_CODES.ErrInvalidEnvironmentVariables;
  if (ifname.length === 0) throw new CniError(code, 'interface name is empty');
  if (new TextEncoder().encode(ifname).length > MAX_INTERFACE_NAME_LENGTH) {
    throw new CniError(code, 'interface name is too long', `interface name should be less than ${MAX_INTERFACE_NAME_LENGTH + 1} characters`);
  }
  if (ifname === '.' || ifname === '..') throw new CniError(code, 'interface name is . or ..');
  if (/[/:\s\u0085\u00a0]/u.test(ifname)) throw new CniError(code, 'interface name contains / or : or whitespace characters');
}
