import { AsyncLocalStorage } from 'node:async_hooks';
import type { Services } from './index.js';

/** One organisation's stores, services and background work, opened on its first request. */
export interface Tenant {
  services: Services;
  close(): Promise<void>;
}

export interface TenantRegistryOptions {
  defaultOrganizationId: string;
  /** The main database's tenant, open for the server's whole life. */
  defaultTenant: Tenant;
  open(organizationId: string): Promise<Tenant>;
  /** Deletes a (closed) tenant's data. */
  destroy(organizationId: string): Promise<void>;
}

/**
 * The open tenants, and the services of the request in progress. Routes are given `current`, whose every service
 * forwards to the services the request was bound to with `run`, so route code stays as it was and an object of
 * another organisation is not there to be found: a 404, by construction.
 */
export class TenantRegistry {
  private readonly tenants = new Map<string, Promise<Tenant>>();
  private readonly bound = new AsyncLocalStorage<Services>();
  readonly current: Services;

  constructor(private readonly options: TenantRegistryOptions) {
    this.tenants.set(options.defaultOrganizationId, Promise.resolve(options.defaultTenant));
    this.current = forwardingServices(() => {
      const services = this.bound.getStore();
      // Failing beats guessing: work that lost its request's context must not fall back to the default tenant.
      if (!services) throw new Error('no tenant is bound to this work');
      return services;
    });
  }

  async services(organizationId: string): Promise<Services> {
    let tenant = this.tenants.get(organizationId);
    if (!tenant) {
      tenant = this.options.open(organizationId);
      this.tenants.set(organizationId, tenant);
      // A tenant that failed to open (its database unreachable) is retried by the next request.
      tenant.catch(() => this.tenants.delete(organizationId));
    }
    return (await tenant).services;
  }

  run<T>(services: Services, work: () => T): T {
    return this.bound.run(services, work);
  }

  async destroy(organizationId: string): Promise<void> {
    if (organizationId === this.options.defaultOrganizationId) throw new Error('the default tenant is permanent');
    const tenant = this.tenants.get(organizationId);
    this.tenants.delete(organizationId);
    if (tenant) await (await tenant.catch(() => undefined))?.close();
    await this.options.destroy(organizationId);
  }

  /** Closes every tenant but the default one, whose owner closes it. */
  async close(): Promise<void> {
    const others = [...this.tenants].filter(([id]) => id !== this.options.defaultOrganizationId);
    this.tenants.clear();
    await Promise.all(others.map(async ([, tenant]) => (await tenant.catch(() => undefined))?.close()));
  }
}

/** Each service's members are looked up on the bound tenant's service when used, not when taken. */
function forwardingServices(resolve: () => Services): Services {
  const forwarders = new Map<PropertyKey, object>();
  return new Proxy({} as Services, {
    get(_target, name) {
      let forwarder = forwarders.get(name);
      if (!forwarder) {
        forwarder = new Proxy(
          {},
          {
            get(_service, member) {
              const service = resolve()[name as keyof Services] as object;
              const value: unknown = Reflect.get(service, member, service);
              return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(service) : value;
            },
          },
        );
        forwarders.set(name, forwarder);
      }
      return forwarder;
    },
  });
}
