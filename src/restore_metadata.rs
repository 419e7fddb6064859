//! What a plan's restore may ask AWS Backup to set on the restored resource: the `Metadata`
//! keys allowed for each resource type, and the values some of them may take. `StartRestoreJob`
//! runs with the deployment's restore role, so a key outside these lists (a public endpoint,
//! another subnet or security group, an instance profile, user data, a copy into another bucket)
//! would let whoever writes a plan change what that role creates. Preflight blocks it
//! ([`crate::preflight::restore`]); widening a list is a reviewed change to this file.
//!
//! The keys are those AWS Backup's developer guide documents for each type ("Restoring ...",
//! the API/CLI sections; RDS takes `RestoreDBInstanceFromDBSnapshot`'s parameter names). AWS
//! Backup reads keys without regard to case, so they are compared that way here. FSx (its
//! nested per-file-system configurations) and other types are not restored.

use std::collections::BTreeMap;

/// What a key may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    Any,
    /// Only these values (compared without regard to case).
    Only(&'static [&'static str]),
}

use Value::{Any, Only};

/// The idempotency key AWS Backup documents for every type.
const REQUEST_ID: (&str, Value) = ("aws:backup:request-id", Any);

const EBS: &[(&str, Value)] = &[
    REQUEST_ID,
    ("availabilityZone", Any),
    ("volumeType", Any),
    ("volumeSize", Any),
    ("iops", Any),
    ("throughput", Any),
    ("encrypted", Only(&["true"])),
    ("kmsKeyId", Any),
    ("temporaryRestoreDays", Any),
    ("volumeId", Any),
];
// Not: restoreType, destinationBucketName, pathsToRestore, encryptionType (a file-level restore
// copies the volume's files into an S3 bucket).

const EC2: &[(&str, Value)] = &[
    REQUEST_ID,
    ("InstanceType", Any),
    ("Architecture", Any),
    ("EnaSupport", Any),
    ("EbsOptimized", Any),
    ("Monitoring", Any),
    ("CpuOptions", Any),
    ("CreditSpecification", Any),
    ("HibernationOptions", Any),
    ("InstanceInitiatedShutdownBehavior", Any),
    ("DisableApiTermination", Any),
    ("Placement", Any),
    ("RootDeviceType", Any),
    ("VirtualizationType", Any),
    ("Platform", Any),
    ("vpcId", Any),
    ("RequireIMDSv2", Only(&["true"])),
];
// Not: SubnetId, SecurityGroupIds, NetworkInterfaces (network), IamInstanceProfileName
// (identity), UserData, KernelId, RamdiskId (code at boot), KeyName, BlockDeviceMappings
// (encryption per volume), CapacityReservationSpecification, InstanceMarketOptions,
// LicenseSpecifications, ElasticGpuSpecification.

const EFS: &[(&str, Value)] = &[
    REQUEST_ID,
    ("file-system-id", Any),
    ("newFileSystem", Any),
    ("CreationToken", Any),
    ("PerformanceMode", Any),
    ("Encrypted", Only(&["true"])),
    ("KmsKeyId", Any),
    ("ItemsToRestore", Any),
    ("singleAzFilesystem", Any),
    ("availabilityZoneName", Any),
];

const RDS: &[(&str, Value)] = &[
    REQUEST_ID,
    ("DBInstanceIdentifier", Any),
    ("DBInstanceClass", Any),
    ("AvailabilityZone", Any),
    ("MultiAZ", Any),
    ("StorageType", Any),
    ("Iops", Any),
    ("StorageThroughput", Any),
    ("AutoMinorVersionUpgrade", Any),
    ("CopyTagsToSnapshot", Any),
    ("DeletionProtection", Any),
    ("LicenseModel", Any),
    ("Engine", Any),
    ("DBName", Any),
    ("PubliclyAccessible", Only(&["false"])),
    // Information only: AWS Backup ignores them on restore.
    ("EngineVersion", Any),
    ("KmsKeyId", Any),
    ("Encrypted", Any),
    ("vpcId", Any),
];
// Not: VpcSecurityGroupIds, DBSubnetGroupName, Port, NetworkType, EnableCustomerOwnedIp
// (network), Domain*, CustomIamInstanceProfile, EnableIAMDatabaseAuthentication (identity),
// DBParameterGroupName, OptionGroupName, TdeCredential*, CACertificateIdentifier,
// ManageMasterUserPassword, MasterUserSecretKmsKeyId, EnableCloudwatchLogsExports.

const AURORA: &[(&str, Value)] = &[
    REQUEST_ID,
    ("dbClusterIdentifier", Any),
    ("engine", Any),
    ("engineVersion", Any),
    ("engineMode", Any),
    ("availabilityZones", Any),
    ("backtrackWindow", Any),
    ("copyTagsToSnapshot", Any),
    ("databaseName", Any),
    ("restoreToTime", Any),
    ("scalingConfiguration", Any),
    ("kmsKeyId", Any),
];
// Not: vpcSecurityGroupIds, dbSubnetGroupName, port, enableIAMDatabaseAuthentication,
// dbClusterParameterGroupName, optionGroupName, enableCloudwatchLogsExports.

const DYNAMODB: &[(&str, Value)] = &[
    REQUEST_ID,
    ("targetTableName", Any),
    ("encryptionType", Any),
    ("kmsMasterKeyArn", Any),
];

const S3: &[(&str, Value)] = &[
    REQUEST_ID,
    ("DestinationBucketName", Any),
    ("ItemsToRestore", Any),
    ("RestoreLatestVersionsUpTo", Any),
    ("RestoreTime", Any),
    ("EncryptionType", Any),
    ("KMSKey", Any),
    ("RestoreACLs", Only(&["false"])),
];

/// The resource types a plan may restore, with their keys.
const TYPES: &[(&str, &[(&str, Value)])] = &[
    ("EBS", EBS),
    ("EC2", EC2),
    ("EFS", EFS),
    ("RDS", RDS),
    ("Aurora", AURORA),
    ("DynamoDB", DYNAMODB),
    ("S3", S3),
];

/// The resource types dr-orchestrator restores.
pub const SUPPORTED: [&str; 7] = ["EBS", "EC2", "EFS", "RDS", "Aurora", "DynamoDB", "S3"];

/// The keys of `metadata` a restore of `resource_type` may not set, each with why; `None`
/// when the type is not one dr-orchestrator restores.
pub fn refused(
    resource_type: &str,
    metadata: &BTreeMap<String, String>,
) -> Option<Vec<(String, String)>> {
    let (_, allowed) = TYPES.iter().find(|(name, _)| *name == resource_type)?;
    let mut refused = Vec::new();
    for (key, value) in metadata {
        match allowed.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            None => refused.push((
                key.clone(),
                format!(
                    "a plan may not set {key} on a restored {resource_type} resource (it could change its network, identity, encryption or where the data goes); allowed: {}",
                    allowed.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                ),
            )),
            Some((_, Only(values))) if !values.iter().any(|v| v.eq_ignore_ascii_case(value)) => {
                refused.push((
                    key.clone(),
                    format!(
                        "{key} may only be {} on a restored {resource_type} resource, got {value:?}",
                        values.join(" or ")
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Some(refused)
}

#[cfg(test)]
mod tests {
    use super::{refused, SUPPORTED, TYPES};

    fn metadata(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_public_database_another_network_or_a_copy_elsewhere_is_refused() {
        let rds = refused(
            "RDS",
            &metadata(&[
                ("DBInstanceIdentifier", "payments-drill"),
                ("PubliclyAccessible", "true"),
                ("VpcSecurityGroupIds", "sg-0123"),
            ]),
        )
        .unwrap();
        let keys: Vec<&str> = rds.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["PubliclyAccessible", "VpcSecurityGroupIds"]);
        assert!(rds[0].1.contains("may only be false"), "{}", rds[0].1);
        // Keys are read without regard to case, as AWS Backup reads them.
        let lower = refused("RDS", &metadata(&[("publiclyaccessible", "TRUE")])).unwrap();
        assert_eq!(lower.len(), 1);
        assert_eq!(
            refused("RDS", &metadata(&[("PubliclyAccessible", "False")])),
            Some(vec![])
        );
        let ec2 = refused(
            "EC2",
            &metadata(&[
                ("InstanceType", "m5.large"),
                ("IamInstanceProfileName", "admin"),
                ("UserData", "IyEvYmluL3No"),
                ("SubnetId", "subnet-1"),
            ]),
        )
        .unwrap();
        assert_eq!(ec2.len(), 3);
        let ebs = refused(
            "EBS",
            &metadata(&[("restoreType", "files"), ("destinationBucketName", "b")]),
        )
        .unwrap();
        assert_eq!(ebs.len(), 2);
        assert_eq!(
            refused("S3", &metadata(&[("RestoreACLs", "true")]))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn what_the_samples_and_the_seed_restore_is_allowed_and_fsx_is_not_restored() {
        let efs = metadata(&[
            ("file-system-id", "fs-0123456789abcdef0"),
            ("newFileSystem", "true"),
            ("CreationToken", "restore-sample"),
        ]);
        assert_eq!(refused("EFS", &efs), Some(vec![]));
        let mut ebs = metadata(&[
            ("availabilityZone", "eu-west-1b"),
            ("volumeType", "gp3"),
            ("encrypted", "true"),
        ]);
        assert_eq!(refused("EBS", &ebs), Some(vec![]));
        ebs.insert("encrypted".into(), "false".into());
        assert_eq!(refused("EBS", &ebs).unwrap().len(), 1);
        let ddb = metadata(&[("targetTableName", "payments-ledger-drill")]);
        assert_eq!(refused("DynamoDB", &ddb), Some(vec![]));
        assert_eq!(refused("FSx", &ddb), None);
        assert_eq!(
            refused("rds", &ddb),
            None,
            "resource types are AWS Backup's names"
        );
        let listed: Vec<&str> = TYPES.iter().map(|(name, _)| *name).collect();
        assert_eq!(listed, SUPPORTED);
    }
}
