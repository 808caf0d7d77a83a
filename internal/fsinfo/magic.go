package fsinfo

import "fmt"

// kind is what the magic number of a filesystem says about it.
type kind struct {
	name    string
	network bool
}

// Magic numbers of statfs's f_type. Network filesystems are those where a
// container's upper directory must not live: remote (NFS, CIFS/SMB, AFS,
// Coda), parallel and cluster (Lustre, GPFS, BeeGFS, CephFS, OrangeFS,
// Panasas), and 9p, the host share of VMs and WSL, which has no dependable
// xattrs or locking.
var magics = map[uint32]kind{
	0xEF53:     {"ext2/ext3/ext4", false},
	0x58465342: {"xfs", false},
	0x9123683E: {"btrfs", false},
	0x2FC12FC1: {"zfs", false},
	0xCA451A4E: {"bcachefs", false},
	0xF2F52010: {"f2fs", false},
	0x3153464A: {"jfs", false},
	0x52654973: {"reiserfs", false},
	0x3434:     {"nilfs2", false},
	0x7461636F: {"ocfs2", false},
	0x01021994: {"tmpfs", false},
	0x858458F6: {"ramfs", false},
	0x794C7630: {"overlay", false},
	0x65735546: {"fuse", false},
	0x73717368: {"squashfs", false},
	0xE0F5E1E2: {"erofs", false},
	0x9660:     {"iso9660", false},
	0x4D44:     {"vfat", false},
	0x2011BAB0: {"exfat", false},
	0x5346544E: {"ntfs", false},
	0x7366746E: {"ntfs3", false},
	0x9FA0:     {"proc", false},
	0x62656572: {"sysfs", false},
	0x1CD1:     {"devpts", false},
	0x63677270: {"cgroup2", false},
	0x27E0EB:   {"cgroup", false},
	0x64626720: {"debugfs", false},
	0x74726163: {"tracefs", false},
	0x73636673: {"securityfs", false},
	0xCAFE4A11: {"bpf", false},
	0x6E736673: {"nsfs", false},
	0x42494E4D: {"binfmt_misc", false},
	0x19800202: {"mqueue", false},
	0x958458F6: {"hugetlbfs", false},
	0x6969:     {"nfs", true},
	0x0BD00BD0: {"lustre", true},
	0x47504653: {"gpfs", true},
	0xFF534D42: {"cifs", true},
	0xFE534D42: {"smb2", true},
	0x517B:     {"smb", true},
	0x00C36400: {"ceph", true},
	0x19830326: {"beegfs", true},
	0x01021997: {"9p", true},
	0x6B414653: {"afs", true},
	0x5346414F: {"openafs", true},
	0x73757245: {"coda", true},
	0x20030528: {"orangefs", true},
	0xAAD7AAEA: {"panfs", true},
	0x564C:     {"ncpfs", true},
}

// networkFUSE are FUSE subtypes (the mount table's "fuse.SUBTYPE") that
// reach their files over the network.
var networkFUSE = map[string]bool{
	"sshfs": true, "s3fs": true, "gcsfuse": true, "glusterfs": true,
	"ceph-fuse": true, "ceph": true, "rclone": true, "goofys": true,
	"juicefs": true, "mfs": true, "lizardfs": true, "cvmfs": true,
	"davfs": true, "davfs2": true, "blobfuse": true, "blobfuse2": true,
	"mountpoint-s3": true, "quobyte": true, "beegfs": true, "lustre": true,
	"gvfsd-fuse": true, "curlftpfs": true, "afpfs": true, "smbnetfs": true,
}

// classify names a filesystem from its magic and, when the mount table
// had it, its mount type ("ext4", "fuse.sshfs", "nfs4").
func classify(magic uint32, mountType string) (name string, network bool) {
	k, known := magics[magic]
	if !known {
		k = kind{name: unknownName(magic)}
		if mountType != "" {
			k.name = mountType
		}
	}
	if magic == 0xEF53 && (mountType == "ext2" || mountType == "ext3" || mountType == "ext4") {
		k.name = mountType
	}
	if sub, ok := fuseSubtype(mountType); ok && magic == 0x65735546 && networkFUSE[sub] {
		k.network = true
	}
	return k.name, k.network
}

// fuseSubtype returns SUBTYPE of "fuse.SUBTYPE" or "fuseblk.SUBTYPE".
func fuseSubtype(mountType string) (string, bool) {
	for _, p := range []string{"fuse.", "fuseblk."} {
		if len(mountType) > len(p) && mountType[:len(p)] == p {
			return mountType[len(p):], true
		}
	}
	return "", false
}

func unknownName(magic uint32) string {
	return fmt.Sprintf("unknown (0x%08x)", magic)
}
