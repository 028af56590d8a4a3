/**
 * authenticatorConfig (0x0D, CTAP 2.2 §6.11): enableEnterpriseAttestation,
 * toggleAlwaysUv, setMinPINLength, vendorPrototype. pinUvAuthParam =
 * authenticate(token, 32×0xff || 0x0d || uint8(subCommand) || subCommandParams).
 */
import { encodeCbor, type CborValue } from '../cbor/index.js';
import type { TransactOptions } from '../ctaphid/transport.js';
import { CTAP2_CMD } from './commands.js';
import type { PinUvAuthToken } from './client-pin.js';
import { infoOption, PERMISSION, requirePermission, UnsupportedFeatureError, type FeatureInfo } from './permissions.js';
import type { Ctap2Session } from './session.js';
import { CTAP2_STATUS } from './status.js';

export const CONFIG_SUBCOMMAND = {
  enableEnterpriseAttestation: 0x01,
  toggleAlwaysUv: 0x02,
  setMinPINLength: 0x03,
  vendorPrototype: 0xff,
} as const;

export const CONFIG_PARAM = {
  subCommand: 0x01,
  subCommandParams: 0x02,
  pinUvAuthProtocol: 0x03,
  pinUvAuthParam: 0x04,
} as const;

export const SET_MIN_PIN_LENGTH_PARAM = {
  newMinPINLength: 0x01,
  minPinLengthRPIDs: 0x02,
  forceChangePin: 0x03,
} as const;

export const VENDOR_PROTOTYPE_PARAM = { vendorCommandId: 0x01 } as const;

export interface ConfigRequest {
  subCommand: number;
  subCommandParams?: Map<number, CborValue> | undefined;
  pinUvAuthProtocol?: number | undefined;
  pinUvAuthParam?: Uint8Array | undefined;
}

export function encodeConfigRequest(req: ConfigRequest): Map<number, CborValue> {
  const P = CONFIG_PARAM;
  const m = new Map<number, CborValue>([[P.subCommand, req.subCommand]]);
  if (req.subCommandParams) m.set(P.subCommandParams, req.subCommandParams);
  if (req.pinUvAuthProtocol !== undefined) m.set(P.pinUvAuthProtocol, req.pinUvAuthProtocol);
  if (req.pinUvAuthParam) m.set(P.pinUvAuthParam, req.pinUvAuthParam);
  return m;
}

/** 32×0xff || 0x0d || uint8(subCommand) || CBOR(subCommandParams) */
export function configAuthMessage(subCommand: number, params?: Map<number, CborValue>): Uint8Array {
  const p = params ? encodeCbor(params) : new Uint8Array(0);
  const out = new Uint8Array(34 + p.length);
  out.fill(0xff, 0, 32);
  out[32] = CTAP2_CMD.config;
  out[33] = subCommand;
  out.set(p, 34);
  return out;
}

export interface SetMinPinLengthOptions {
  /** New minimum (code points); keys refuse a decrease. */
  newMinPINLength?: number | undefined;
  /** RP ids allowed to read the minimum through the minPinLength extension. */
  minPinLengthRPIDs?: readonly string[] | undefined;
  /** Make the user change the PIN before the next use. */
  forceChangePin?: boolean | undefined;
}

/**
 * authenticatorConfig with a token holding `acfg` (or no token when the key
 * is not protected by a PIN or UV, which the spec allows).
 */
export class AuthenticatorConfig {
  readonly session: Ctap2Session;
  readonly info: FeatureInfo;
  readonly token: PinUvAuthToken | undefined;

  constructor(session: Ctap2Session, info: FeatureInfo, token?: PinUvAuthToken) {
    if (infoOption(info, 'authnrCfg') !== true) {
      throw new UnsupportedFeatureError('authnrCfg', 'this key does not support authenticatorConfig (getInfo lacks the authnrCfg option)', { command: CTAP2_CMD.config });
    }
    requirePermission(token, PERMISSION.acfg, 'acfg (authenticator configuration)');
    this.session = session;
    this.info = info;
    this.token = token;
  }

  static async open(session: Ctap2Session, token?: PinUvAuthToken, opts?: TransactOptions): Promise<AuthenticatorConfig> {
    return new AuthenticatorConfig(session, await session.getInfo(opts), token);
  }

  static isSupported(info: FeatureInfo): boolean {
    return infoOption(info, 'authnrCfg') === true;
  }

  async #call(subCommand: number, params: Map<number, CborValue> | undefined, opts?: TransactOptions): Promise<unknown> {
    const req: ConfigRequest = { subCommand, subCommandParams: params };
    if (this.token) {
      req.pinUvAuthProtocol = this.token.protocolVersion;
      req.pinUvAuthParam = this.token.authenticate(configAuthMessage(subCommand, params));
    }
    const { value } = await this.session.send(CTAP2_CMD.config, encodeConfigRequest(req), opts);
    this.session.invalidateInfo(); // every subcommand changes getInfo
    return value;
  }

  async enableEnterpriseAttestation(opts?: TransactOptions): Promise<void> {
    if (infoOption(this.info, 'ep') === undefined) {
      throw new UnsupportedFeatureError('ep', 'this key does not support enterprise attestation (getInfo lacks the ep option)', {
        command: CTAP2_CMD.config,
        status: CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER,
      });
    }
    await this.#call(CONFIG_SUBCOMMAND.enableEnterpriseAttestation, undefined, opts);
  }

  /** Flip alwaysUv; read getInfo afterwards for the new state. */
  async toggleAlwaysUv(opts?: TransactOptions): Promise<void> {
    if (infoOption(this.info, 'alwaysUv') === undefined) {
      throw new UnsupportedFeatureError('alwaysUv', 'this key does not support the alwaysUv setting (getInfo lacks the alwaysUv option)', {
        command: CTAP2_CMD.config,
        status: CTAP2_STATUS.CTAP2_ERR_OPERATION_DENIED,
      });
    }
    await this.#call(CONFIG_SUBCOMMAND.toggleAlwaysUv, undefined, opts);
  }

  async setMinPINLength(options: SetMinPinLengthOptions, opts?: TransactOptions): Promise<void> {
    if (infoOption(this.info, 'setMinPINLength') !== true) {
      throw new UnsupportedFeatureError('setMinPINLength', 'this key does not support setting a minimum PIN length (getInfo lacks the setMinPINLength option)', {
        command: CTAP2_CMD.config,
        status: CTAP2_STATUS.CTAP2_ERR_UNSUPPORTED_OPTION,
      });
    }
    const P = SET_MIN_PIN_LENGTH_PARAM;
    const params = new Map<number, CborValue>();
    if (options.newMinPINLength !== undefined) {
      const n = options.newMinPINLength;
      if (!Number.isInteger(n) || n < 4 || n > 63) throw new RangeError('newMinPINLength must be an integer from 4 to 63');
      const current = this.info.minPINLength ?? 4;
      if (n < current) throw new RangeError(`the key's minimum PIN length is ${current}; it can only be raised`);
      params.set(P.newMinPINLength, n);
    }
    if (options.minPinLengthRPIDs !== undefined) {
      const max = this.info.maxRPIDsForSetMinPINLength ?? 0;
      if (options.minPinLengthRPIDs.length > max) throw new RangeError(`this key accepts at most ${max} RP ids for minPinLength`);
      params.set(P.minPinLengthRPIDs, [...options.minPinLengthRPIDs]);
    }
    if (options.forceChangePin !== undefined) params.set(P.forceChangePin, options.forceChangePin);
    await this.#call(CONFIG_SUBCOMMAND.setMinPINLength, params.size ? params : undefined, opts);
  }

  /** vendorPrototype: a vendor command listed in vendorPrototypeConfigCommands; returns the raw decoded reply. */
  async vendorPrototype(vendorCommandId: number | bigint, params?: ReadonlyMap<number, CborValue>, opts?: TransactOptions): Promise<unknown> {
    const listed = this.info.vendorPrototypeConfigCommands ?? [];
    if (!listed.some((c) => BigInt(c) === BigInt(vendorCommandId))) {
      throw new UnsupportedFeatureError('vendorPrototype', `this key does not list vendor config command ${String(vendorCommandId)} in vendorPrototypeConfigCommands`, {
        command: CTAP2_CMD.config,
        status: CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND,
      });
    }
    const m = new Map<number, CborValue>(params ?? []);
    m.set(VENDOR_PROTOTYPE_PARAM.vendorCommandId, vendorCommandId);
    return this.#call(CONFIG_SUBCOMMAND.vendorPrototype, m, opts);
  }
}
