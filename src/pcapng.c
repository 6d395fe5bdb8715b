/* pcapng.c - see pcapng.h. Section numbers are those of draft-ietf-opsawg-pcapng ("PCAP Now Generic
 * (pcapng) Capture File Format"). */
#include "pcapng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"

/* Section 4.1, 4.2, 4.3: block types. */
#define BLOCK_SECTION_HEADER 0x0A0D0D0Au
#define BLOCK_INTERFACE 0x00000001u
#define BLOCK_ENHANCED_PACKET 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

/* Section 3.5 (options common to all blocks), 4.1 (section header), 4.2 (interface). */
#define OPTION_END 0
#define OPTION_COMMENT 1
#define OPTION_SHB_USERAPPL 4
#define OPTION_IF_TSRESOL 9
#define OPTION_MAX_LEN 0xFFFFu

#define LINKTYPE_ETHERNET 1

/* A block is built in memory first: its total length comes both before and after its body (section
 * 3.1), and writing it whole keeps a failed write from leaving half a block behind. */
struct block {
	uint8_t *bytes;
	size_t len, capacity;
	int failed;
};

static void put(struct block *b, const void *bytes, size_t len)
{
	if (b->failed || len == 0)
		return;
	if (b->len + len > b->capacity) {
		size_t capacity = b->capacity ? b->capacity : 256;
		while (capacity < b->len + len)
			capacity *= 2;
		uint8_t *grown = realloc(b->bytes, capacity);
		if (!grown) {
			b->failed = 1;
			return;
		}
		b->bytes = grown;
		b->capacity = capacity;
	}
	memcpy(b->bytes + b->len, bytes, len);
	b->len += len;
}

static void put_u16(struct block *b, uint16_t v) { put(b, &v, sizeof v); }
static void put_u32(struct block *b, uint32_t v) { put(b, &v, sizeof v); }

/* Every field, option value and packet is padded to 32 bits (section 3.1). */
static void pad(struct block *b)
{
	static const uint8_t zeros[3];
	put(b, zeros, (4 - b->len % 4) % 4);
}

static void put_option(struct block *b, uint16_t code, const void *value, size_t len)
{
	if (len > OPTION_MAX_LEN)
		len = OPTION_MAX_LEN;
	put_u16(b, code);
	put_u16(b, (uint16_t)len);
	put(b, value, len);
	pad(b);
}

static void put_comments(struct block *b, const char *const comments[PCAPNG_MAX_COMMENTS])
{
	for (int i = 0; i < PCAPNG_MAX_COMMENTS && comments[i]; i++)
		put_option(b, OPTION_COMMENT, comments[i], strlen(comments[i]));
}

static void begin_block(struct block *b, uint32_t type)
{
	b->len = 0;
	put_u32(b, type);
	put_u32(b, 0); /* the total length, known at the end */
}

/* Ends the options (section 3.5: opt_endofopt closes a list that has any) and the block, then writes it. */
static int end_block(struct block *b, int has_options, FILE *out, char **error)
{
	if (has_options)
		put_option(b, OPTION_END, NULL, 0);
	uint32_t total = (uint32_t)(b->len + 4);
	put_u32(b, total);
	if (b->failed)
		return error_set(error, "out of memory");
	memcpy(b->bytes + 4, &total, sizeof total);
	if (fwrite(b->bytes, 1, b->len, out) != b->len)
		return error_set(error, "%s", strerror(errno ? errno : EIO));
	return 0;
}

int pcapng_write(FILE *out, const struct pcapng_section *section, uint32_t snaplen,
		 const struct pcapng_frame *frames, size_t count, char **error)
{
	struct block b = { 0 };
	int rc = 0;

	begin_block(&b, BLOCK_SECTION_HEADER);
	put_u32(&b, BYTE_ORDER_MAGIC);
	put_u16(&b, 1); /* major version */
	put_u16(&b, 0); /* minor version */
	put_u32(&b, 0xFFFFFFFFu); /* section length -1: not given (64 bits) */
	put_u32(&b, 0xFFFFFFFFu);
	put_comments(&b, section->comments);
	if (section->application)
		put_option(&b, OPTION_SHB_USERAPPL, section->application, strlen(section->application));
	rc = end_block(&b, 1, out, error);

	if (rc == 0) {
		begin_block(&b, BLOCK_INTERFACE);
		put_u16(&b, LINKTYPE_ETHERNET);
		put_u16(&b, 0); /* reserved */
		put_u32(&b, snaplen);
		/* if_tsresol 9: stamps count 10^-9 s, as the capture takes them (the default is microseconds). */
		uint8_t nanoseconds = 9;
		put_option(&b, OPTION_IF_TSRESOL, &nanoseconds, 1);
		rc = end_block(&b, 1, out, error);
	}

	for (size_t i = 0; rc == 0 && i < count; i++) {
		const struct pcapng_frame *f = &frames[i];
		uint64_t stamp = (uint64_t)f->at_ns;
		begin_block(&b, BLOCK_ENHANCED_PACKET);
		put_u32(&b, 0); /* the interface above */
		put_u32(&b, (uint32_t)(stamp >> 32));
		put_u32(&b, (uint32_t)stamp);
		put_u32(&b, f->len); /* captured */
		put_u32(&b, f->len); /* on the wire: the capture never truncates (snaplen 65535) */
		put(&b, f->bytes, f->len);
		pad(&b);
		put_comments(&b, f->comments);
		rc = end_block(&b, f->comments[0] != NULL, out, error);
	}
	free(b.bytes);
	return rc;
}
