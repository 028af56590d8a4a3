/**
 * Getting a pinUvAuthToken for a CLI command: the PIN comes from the
 * SecretSource (never argv), is handed to the library's ClientPin and zeroed
 * straight after; the token is destroyed when the command ends.
 */
import { ClientPin, type PinUvAuthToken } from '../ctap2/client-pin.js';
import { getOption } from '../ctap2/get-info.js';
import type { PermissionName } from '../ctap2/permissions.js';
import { CtapError, CTAP2_STATUS } from '../ctap2/status.js';
import type { OpenedDevice } from '../device/open.js';
import type { Context } from './context.js';

export async function pinToken(ctx: Context, device: OpenedDevice, permissions: readonly PermissionName[], rpId?: string): Promise<PinUvAuthToken> {
  const opts = ctx.callOptions();
  const cp = new ClientPin(device.session);
  await cp.info(opts); // checks clientPIN support
  const info = await device.session.getInfo(opts);
  if (getOption(info, 'clientPin') !== true) {
    if (getOption(info, 'uv') === true && getOption(info, 'pinUvAuthToken') === true) {
      ctx.out.status('Verify on the key (fingerprint or other built-in verification).');
      const t = await cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions, rpId }, opts);
      ctx.onExit(() => t.destroy());
      return t;
    }
    throw new CtapError(CTAP2_STATUS.CTAP2_ERR_PIN_NOT_SET, { message: 'this needs the key\'s PIN, and no PIN is set' });
  }
  const pin = await ctx.secrets.pin('current', 'PIN: ');
  try {
    const t = await cp.getPinUvAuthTokenUsingPin(pin, { permissions, rpId }, opts);
    ctx.onExit(() => t.destroy());
    return t;
  } finally {
    pin.fill(0);
  }
}
