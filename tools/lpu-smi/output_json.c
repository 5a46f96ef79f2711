// SPDX-License-Identifier: MIT
/*
 * lpu-smi --json, built with json-c. "schema_version" changes only when a
 * field is removed or changes meaning; "schema_version_minor" when fields
 * are added (smi.h). Unavailable values are null, never omitted.
 */
#include <errno.h>
#include <stdio.h>

#include <json-c/json.h>

#include "smi.h"

static json_object *link_json(const struct smi_link *l)
{
	json_object *o;

	if (!l->known)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "integrated", json_object_new_boolean(l->no_link));
	json_object_object_add(o, "speed", l->no_link ? NULL :
			       json_object_new_string(l->speed));
	json_object_object_add(o, "width", l->no_link ? NULL :
			       json_object_new_int(l->width));
	json_object_object_add(o, "max_speed", l->no_link ? NULL :
			       json_object_new_string(l->max_speed));
	json_object_object_add(o, "max_width", l->no_link ? NULL :
			       json_object_new_int(l->max_width));
	json_object_object_add(o, "source", json_object_new_string(l->source));
	return o;
}

static json_object *procs_json(const struct smi_card *c)
{
	json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < c->num_procs; i++) {
		const struct smi_proc *p = &c->procs[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_int(p->pid));
		json_object_object_add(o, "name", json_object_new_string(p->comm));
		json_object_object_add(o, "client_id",
				       json_object_new_int64((int64_t)p->client_id));
		json_object_object_add(o, "sram_bytes",
				       json_object_new_int64((int64_t)p->sram_bytes));
		json_object_object_add(o, "host_bytes",
				       json_object_new_int64((int64_t)p->host_bytes));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *card_json(const struct smi_card *c)
{
	json_object *o = json_object_new_object();
	const struct lpu_info *in = &c->info;
	char buf[32];
	bool ok = !c->open_err;
	bool fw_abi;

	json_object_object_add(o, "index", json_object_new_int(c->card.index));
	json_object_object_add(o, "node", json_object_new_string(c->card.dev_path));
	json_object_object_add(o, "symlink", c->symlink[0] ?
			       json_object_new_string(c->symlink) : NULL);
	json_object_object_add(o, "accel_minor", json_object_new_int(c->card.minor));
	json_object_object_add(o, "pci_address",
			       json_object_new_string(c->card.pci_addr));
	json_object_object_add(o, "vendor_id", json_object_new_int(c->card.vendor_id));
	json_object_object_add(o, "device_id", json_object_new_int(c->card.device_id));
	json_object_object_add(o, "revision", json_object_new_int(c->revision));
	json_object_object_add(o, "pcie_link", link_json(&c->link));
	json_object_object_add(o, "error", ok ? NULL :
			       json_object_new_string(lpu_strerror(c->open_err)));
	json_object_object_add(o, "sram_bytes", ok ?
			       json_object_new_int64((int64_t)in->sram_size) : NULL);
	json_object_object_add(o, "sram_used_bytes", c->sram_used_known ?
			       json_object_new_int64((int64_t)c->sram_used) : NULL);
	json_object_object_add(o, "processes", procs_json(c));
	json_object_object_add(o, "num_queues", ok ?
			       json_object_new_int(in->num_queues) : NULL);
	json_object_object_add(o, "ring_entries", ok ?
			       json_object_new_int64(in->ring_entries) : NULL);
	json_object_object_add(o, "capabilities", ok ?
			       json_object_new_int64((int64_t)in->capabilities) : NULL);
	snprintf(buf, sizeof(buf), "%u.%u", in->hw_version >> 16,
		 in->hw_version & 0xffff);
	json_object_object_add(o, "hw_version", ok ?
			       json_object_new_string(buf) : NULL);
	json_object_object_add(o, "driver_version", ok ?
			       json_object_new_string(smi_version_str(in->driver_version,
								      buf, sizeof(buf))) : NULL);
	/* null both when unknown and when only the boot ROM runs. */
	json_object_object_add(o, "firmware_version", ok && in->fw_version ?
			       json_object_new_string(smi_version_str(in->fw_version,
								      buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "firmware_running",
			       ok ? json_object_new_boolean(in->fw_version != 0) : NULL);
	/* null also with a driver before 0.4, which does not report them. */
	fw_abi = ok && in->fw_version && in->fw_abi_version;
	json_object_object_add(o, "firmware_abi_version", fw_abi ?
			       json_object_new_string(smi_fw_abi_str(c, buf, sizeof(buf))) :
			       NULL);
	json_object_object_add(o, "sram_reserved_bytes", fw_abi ?
			       json_object_new_int64((int64_t)in->sram_reserved) : NULL);
	return o;
}

int smi_print_json(const struct smi_card *cards, int n)
{
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();
	int i;

	if (!root || !arr)
		return -ENOMEM;
	json_object_object_add(root, "schema_version",
			       json_object_new_int(SMI_JSON_SCHEMA));
	json_object_object_add(root, "schema_version_minor",
			       json_object_new_int(SMI_JSON_SCHEMA_MINOR));
	json_object_object_add(root, "lpu_smi_version",
			       json_object_new_string(SMI_VERSION));
	for (i = 0; i < n; i++)
		json_object_array_add(arr, card_json(&cards[i]));
	json_object_object_add(root, "cards", arr);
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_SPACED));
	json_object_put(root);
	return 0;
}
