/*
 * Copyright 2026 The oko authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * ports.c -- oko-primary's ports: one RX and one TX queue each, and the
 * two SP/SC rings that connect each port to the classifier.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_string_fns.h>

#include "primary.h"

/* Descriptors per queue: enough to absorb a burst while the loop sleeps
 * (adaptive polling), small enough for -m 128. */
#define PORT_NB_RXD 512
#define PORT_NB_TXD 512

static int
port_start(uint16_t port, struct rte_mempool *pool, char *err, size_t errlen)
{
    struct rte_eth_conf conf;
    struct rte_eth_dev_info info;
    uint16_t nb_rxd = PORT_NB_RXD, nb_txd = PORT_NB_TXD;
    int rc;

    memset(&conf, 0, sizeof conf);
    rc = rte_eth_dev_info_get(port, &info);
    if (rc) {
        snprintf(err, errlen, "port %u: dev_info: %s", port, strerror(-rc));
        return rc;
    }
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
    }
    rc = rte_eth_dev_configure(port, 1, 1, &conf);
    if (!rc) {
        rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
    }
    if (!rc) {
        rc = rte_eth_rx_queue_setup(port, 0, nb_rxd,
                                    rte_eth_dev_socket_id(port), NULL, pool);
    }
    if (!rc) {
        rc = rte_eth_tx_queue_setup(port, 0, nb_txd,
                                    rte_eth_dev_socket_id(port), NULL);
    }
    if (!rc) {
        rc = rte_eth_dev_start(port);
    }
    if (rc) {
        snprintf(err, errlen, "port %u: cannot start: %s", port,
                 rte_strerror(-rc));
        return rc;
    }
    /* Not every PMD has a promiscuous mode (net_pcap, net_null do not
     * filter anyway): failure is not an error. */
    rte_eth_promiscuous_enable(port);
    return 0;
}

static struct rte_ring *
ring_create(const char *fmt, unsigned int idx, unsigned int size,
            char *err, size_t errlen)
{
    char name[OKO_SHM_NAMESIZE];
    struct rte_ring *r;

    if (oko_shm_name(name, sizeof name, fmt, idx)) {
        snprintf(err, errlen, "ring name too long");
        return NULL;
    }
    r = rte_ring_create(name, size, rte_socket_id(),
                        RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!r) {
        snprintf(err, errlen, "cannot create ring %s: %s", name,
                 rte_strerror(rte_errno));
    }
    return r;
}

/* Keeping the ports private to the primary.
 *
 * At rte_eal_init(), a secondary asks the primary for its virtual devices
 * over rte_mp ("bus_vdev_mp") and probes each of them again.  net_pcap then
 * re-opens its files in the secondary -- truncating the primary's tx_pcap
 * output -- and net_af_packet crashes (DPDK-NOTES.md).  The primary does
 * every port's I/O, so its secondaries need none of them: the primary
 * answers that request with an empty list.  The message layout is the vdev
 * bus's (struct vdev_param of drivers/bus/vdev/vdev.c, DPDK 22.11); a
 * secondary that gets no answer waits 5 s and carries on without ports, so
 * a layout change costs start-up time, not correctness. */
#define VDEV_MP_KEY "bus_vdev_mp"
#define VDEV_SCAN_REQ 1
#define VDEV_SCAN_REP 3

struct vdev_mp_param {
    int type;
    int num;
    char name[RTE_DEV_NAME_MAX_LEN];
};

static int
vdev_mp_hide(const struct rte_mp_msg *msg, const void *peer)
{
    const struct vdev_mp_param *in = (const void *) msg->param;
    struct rte_mp_msg resp;
    struct vdev_mp_param *out = (void *) resp.param;

    if (in->type != VDEV_SCAN_REQ) {
        return 0;
    }
    memset(&resp, 0, sizeof resp);
    strlcpy(resp.name, VDEV_MP_KEY, sizeof resp.name);
    resp.len_param = sizeof *out;
    out->type = VDEV_SCAN_REP;
    out->num = 0;
    return rte_mp_reply(&resp, peer);
}

static int
ports_hide(char *err, size_t errlen)
{
    RTE_BUILD_BUG_ON(sizeof(struct vdev_mp_param) > RTE_MP_MAX_PARAM_LEN);
    rte_mp_action_unregister(VDEV_MP_KEY);
    if (rte_mp_action_register(VDEV_MP_KEY, vdev_mp_hide) < 0) {
        snprintf(err, errlen, "cannot register %s: %s", VDEV_MP_KEY,
                 rte_strerror(rte_errno));
        return -rte_errno;
    }
    return 0;
}

int
prim_ports_init(const struct prim_opts *o, struct rte_mempool *pool,
                struct oko_shm_registry *reg, struct prim_rings *rings,
                char *err, size_t errlen)
{
    uint16_t port;
    int rc;

    memset(rings, 0, sizeof *rings);
    RTE_ETH_FOREACH_DEV(port) {
        struct oko_shm_port *sp;
        struct rte_ether_addr mac;

        if (port >= OKO_SHM_MAX_PORTS) {
            snprintf(err, errlen, "too many ports (at most %d)",
                     OKO_SHM_MAX_PORTS);
            return -E2BIG;
        }
        rc = port_start(port, pool, err, errlen);
        if (rc) {
            return rc;
        }
        sp = &reg->ports[port];
        sp->port_id = port;
        rte_eth_dev_get_name_by_port(port, sp->name);
        if (!rte_eth_macaddr_get(port, &mac)) {
            memcpy(sp->mac, mac.addr_bytes, sizeof sp->mac);
        }
        rings->port_rx[port] = ring_create(OKO_SHM_PORT_RX_RING, port,
                                           o->ring_size, err, errlen);
        rings->port_tx[port] = ring_create(OKO_SHM_PORT_TX_RING, port,
                                           o->ring_size, err, errlen);
        if (!rings->port_rx[port] || !rings->port_tx[port]) {
            return -ENOMEM;
        }
        __atomic_store_n(&sp->in_use, 1, __ATOMIC_RELEASE);
        reg->n_ports = port + 1;
        oko_log(OKO_LOG_INFO, "port %u: %s", port, sp->name);
    }
    if (reg->n_ports == 0) {
        snprintf(err, errlen, "no ports: add --vdev=net_null0 or "
                 "--vdev=net_pcap0,rx_pcap=IN,tx_pcap=OUT (or --pci)");
        return -ENODEV;
    }
    return o->share_ports ? 0 : ports_hide(err, errlen);
}

void
prim_ports_fini(struct oko_shm_registry *reg)
{
    for (unsigned int i = 0; reg && i < reg->n_ports; i++) {
        if (reg->ports[i].in_use) {
            rte_eth_dev_stop(reg->ports[i].port_id);
            rte_eth_dev_close(reg->ports[i].port_id);
        }
    }
}
