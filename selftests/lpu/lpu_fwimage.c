// SPDX-License-Identifier: GPL-2.0
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpu_fwimage.h"
#include "lpu_util.h"

int fw_image_load(const char *path, struct fw_image *img)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, ret = 0;

	memset(img, 0, sizeof(*img));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	/* The format's own limit bounds what a test ever needs to read. */
	if (st.st_size < LPU_FW_HEADER_SIZE || st.st_size > LPU_FW_MAX_SIZE) {
		ret = -EINVAL;
		goto out;
	}
	img->size = st.st_size;
	img->data = malloc(img->size);
	if (!img->data) {
		ret = -ENOMEM;
		goto out;
	}
	while (got < img->size) {
		n = read(fd, img->data + got, img->size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += n;
	}
	img->hdr = (const struct lpu_fw_header *)img->data;
	if (le32toh(img->hdr->magic) != LPU_FW_MAGIC)
		ret = -EINVAL;
out:
	close(fd);
	if (ret)
		fw_image_free(img);
	return ret;
}

void fw_image_free(struct fw_image *img)
{
	free(img->data);
	memset(img, 0, sizeof(*img));
}

const void *fw_image_section(const struct fw_image *img, uint32_t type,
			     size_t size)
{
	uint32_t count = le32toh(img->hdr->section_count);
	uint64_t table = le32toh(img->hdr->payload_offset);
	const struct lpu_fw_section *s;
	uint32_t i;

	if (count > LPU_FW_MAX_SECTIONS ||
	    table + (uint64_t)count * sizeof(*s) > img->size)
		return NULL;
	for (i = 0; i < count; i++) {
		s = (const struct lpu_fw_section *)(img->data + table) + i;
		if (le32toh(s->type) != type)
			continue;
		if (le32toh(s->size) != size ||
		    (uint64_t)le32toh(s->offset) + size > img->size)
			return NULL;
		return img->data + le32toh(s->offset);
	}
	return NULL;
}

uint32_t fw_image_version(const struct fw_image *img)
{
	return LPU_VERSION_ENCODE(le16toh(img->hdr->fw_major),
				  le16toh(img->hdr->fw_minor),
				  le16toh(img->hdr->fw_patch));
}

uint32_t fw_image_abi(const struct fw_image *img)
{
	return LPU_VERSION_ENCODE(le16toh(img->hdr->abi_major),
				  le16toh(img->hdr->abi_minor), 0);
}

void fw_image_build_id(const struct fw_image *img, char *buf, size_t len)
{
	size_t n = strnlen((const char *)img->hdr->build_id,
			   LPU_FW_BUILD_ID_LEN);

	snprintf(buf, len, "%.*s", (int)n, (const char *)img->hdr->build_id);
}

uint64_t fw_cost_cycles(const struct lpu_fw_cost *cost, unsigned int cls,
			uint64_t units)
{
	uint64_t rate = le32toh(cost->cls[cls].units_per_cycle);

	return le32toh(cost->cls[cls].base_cycles) + (units + rate - 1) / rate;
}

int fw_running_path(char *buf, size_t len)
{
	char name[256];
	int ret, n;

	ret = read_text("/sys/module/lpu/parameters/firmware", name,
			sizeof(name));
	if (ret < 0 && ret != -ENOENT)
		return ret;
	/* A module without the parameter boots the default name. */
	if (ret < 0)
		name[0] = '\0';
	name[strcspn(name, "\n")] = '\0';
	if (!name[0])
		snprintf(name, sizeof(name), "%s", LPU_FW_NAME);
	n = snprintf(buf, len, "%s/%s", FW_DIR, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int fw_running_cost(struct lpu_fw_cost *cost)
{
	const struct lpu_fw_cost *c;
	struct fw_image img;
	char path[512];
	int ret;

	ret = fw_running_path(path, sizeof(path));
	if (!ret)
		ret = fw_image_load(path, &img);
	if (ret)
		return ret;
	c = fw_image_section(&img, LPU_FW_SEC_COST, sizeof(*c));
	if (c)
		memcpy(cost, c, sizeof(*cost));
	fw_image_free(&img);
	return c ? 0 : -ENOENT;
}
