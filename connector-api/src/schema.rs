//! The connector's schema: which object classes it manages and the flags of every attribute.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::ObjectClass;

/// Every object class a connector manages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Schema {
    /// The classes, each with its attributes.
    pub classes: Vec<ClassSchema>,
}

impl Schema {
    /// A schema of these classes.
    pub fn new(classes: Vec<ClassSchema>) -> Self {
        Schema { classes }
    }

    /// The class named `class`, if declared.
    pub fn class(&self, class: &str) -> Option<&ClassSchema> {
        self.classes.iter().find(|c| c.name == class)
    }
}

/// One object class: what its uid and name mean, and its attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ClassSchema {
    /// The class name, as used in requests.
    pub name: ObjectClass,
    /// What the uid is in the target (e.g. "SCIM user id").
    pub uid_description: String,
    /// What the name is in the target (e.g. "userName").
    pub name_description: String,
    /// Whether objects of this class have an enabled flag.
    #[serde(default)]
    pub has_enabled: bool,
    /// Every other attribute.
    pub attributes: Vec<AttributeSchema>,
}

impl ClassSchema {
    /// Class `name`, whose uid and name mean what the two descriptions say in the target;
    /// no enabled flag and no other attribute until [`ClassSchema::with_enabled`] and
    /// [`ClassSchema::with_attributes`] say so.
    pub fn new(name: &str, uid_description: &str, name_description: &str) -> Self {
        ClassSchema {
            name: name.into(),
            uid_description: uid_description.into(),
            name_description: name_description.into(),
            has_enabled: false,
            attributes: Vec::new(),
        }
    }

    /// Objects of this class have an enabled flag.
    pub fn with_enabled(mut self) -> Self {
        self.has_enabled = true;
        self
    }

    /// The class's other attributes.
    pub fn with_attributes(mut self, attributes: Vec<AttributeSchema>) -> Self {
        self.attributes = attributes;
        self
    }

    /// The attribute named `name`, if declared.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// The value type of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttributeType {
    /// A UTF-8 string.
    String,
    /// A signed integer.
    Integer,
    /// A boolean.
    Boolean,
    /// An RFC 3339 date-time string.
    DateTime,
    /// A uid of another object (`references` names its class).
    Reference,
    /// A JSON object.
    Object,
}

/// One attribute and its flags. Built with [`AttributeSchema::new`] and the setters, which start
/// from a single-valued, optional, creatable, updatable, readable, returned-by-default attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AttributeSchema {
    /// The attribute's name in requests and objects.
    pub name: String,
    /// The value type.
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// For people: what the attribute is in the target.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// For [`AttributeType::Reference`]: the referenced class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<ObjectClass>,
    /// The value is a JSON array of values.
    pub multi_valued: bool,
    /// A create must give it.
    pub required: bool,
    /// A create may give it.
    pub creatable: bool,
    /// An update may change it.
    pub updatable: bool,
    /// A get or search can return it.
    pub readable: bool,
    /// Returned when no `attributes_to_get` is given.
    pub returned_by_default: bool,
}

impl AttributeSchema {
    /// A single-valued, optional, creatable, updatable, readable, returned-by-default attribute.
    pub fn new(name: &str, kind: AttributeType) -> Self {
        AttributeSchema {
            name: name.into(),
            kind,
            description: String::new(),
            references: None,
            multi_valued: false,
            required: false,
            creatable: true,
            updatable: true,
            readable: true,
            returned_by_default: true,
        }
    }

    /// Sets the description.
    pub fn describe(mut self, description: &str) -> Self {
        self.description = description.into();
        self
    }

    /// Makes it multi-valued.
    pub fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Makes it required on create.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Makes it read-only: neither creatable nor updatable.
    pub fn read_only(mut self) -> Self {
        self.creatable = false;
        self.updatable = false;
        self
    }

    /// Makes it settable on create only.
    pub fn create_only(mut self) -> Self {
        self.updatable = false;
        self
    }

    /// Makes it returned only when asked for by `attributes_to_get`.
    pub fn not_returned_by_default(mut self) -> Self {
        self.returned_by_default = false;
        self
    }

    /// Makes it a reference to objects of `class`.
    pub fn referencing(mut self, class: &str) -> Self {
        self.references = Some(class.into());
        self
    }

    /// The flag inconsistencies of this attribute, for conformance checks.
    pub fn flag_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.required && !self.creatable {
            problems.push(format!("`{}` is required but not creatable", self.name));
        }
        if self.returned_by_default && !self.readable {
            problems.push(format!(
                "`{}` is returned by default but not readable",
                self.name
            ));
        }
        if self.kind == AttributeType::Reference && self.references.is_none() {
            problems.push(format!("`{}` is a reference to no class", self.name));
        }
        problems
    }
}
